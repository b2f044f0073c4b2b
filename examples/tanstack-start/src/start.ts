import { createStart } from '@tanstack/react-start';
import { gatewayErrorAdapter } from 'spacetime-gateway/serialization';

// Errors thrown by server functions reach the browser with their `code` (UNAUTHENTICATED, NOT_A_MEMBER,
// RATE_LIMITED, …): TanStack's own fallback would keep only the message.
export const startInstance = createStart(() => ({ serializationAdapters: [gatewayErrorAdapter] }));
