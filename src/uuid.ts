const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A lower-case UUID string, the only form ids take in this service and its database. */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
