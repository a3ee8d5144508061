import type { AccessClaims } from '../tokens/index.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
import { changePassword } from './change-password.js';
import { deleteAccount } from './delete-account.js';
import { listSessions, logoutOthers, revokeSession } from './devices.js';
import { login } from './login.js';
import { logout, logoutAll, type LogoutCredential } from './logout.js';
import { counted, refreshRefusal } from './metrics.js';
import { refresh } from './refresh.js';
import { register } from './register.js';
import { listEvents } from './security-log.js';

export type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
export type { DeviceSession } from './devices.js';
export type { LogoutCredential } from './logout.js';

/** The use cases, bound to their dependencies once. */
export function createAuthService(deps: AuthDeps) {
  return {
    register: (input: { email: string; password: string }, device: DeviceInfo): Promise<SignedIn> =>
      counted(deps.metrics, 'register', register(deps, input, device)),
    login: (input: { email: string; password: string }, device: DeviceInfo): Promise<SignedIn> =>
      counted(deps.metrics, 'login', login(deps, input, device)),
    // Successes are counted in refresh() itself, which alone knows `rotated` from `grace`.
    refresh: (refreshToken: string, device: DeviceInfo): Promise<SignedIn> =>
      refresh(deps, refreshToken, device).catch((error: unknown) => {
        deps.metrics.refresh(refreshRefusal(error));
        throw error;
      }),
    logout: (credential: LogoutCredential, device: DeviceInfo): Promise<void> => logout(deps, credential, device),
    logoutAll: (access: AccessClaims, device: DeviceInfo) => counted(deps.metrics, 'logout_all', logoutAll(deps, access, device)),
    logoutOthers: (access: AccessClaims, device: DeviceInfo) => logoutOthers(deps, access, device),
    listSessions: (access: AccessClaims) => listSessions(deps, access),
    revokeSession: (access: AccessClaims, sessionId: string, device: DeviceInfo) => revokeSession(deps, access, sessionId, device),
    listEvents: (access: AccessClaims, page: { limit: number; before?: string }) => listEvents(deps, access, page),
    changePassword: (
      access: AccessClaims,
      input: { currentPassword: string; newPassword: string },
      device: DeviceInfo,
    ): Promise<SignedIn> => counted(deps.metrics, 'password_change', changePassword(deps, access, input, device)),
    deleteAccount: (access: AccessClaims, password: string, device: DeviceInfo) => deleteAccount(deps, access, password, device),
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
