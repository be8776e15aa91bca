import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { invalidArgument } from '../common/errors/api-error';

/** The `registrationId` header (webrtc-call-handling `hdrRegistrationId`): required, ≤ 256 characters. */
export const RegistrationIdHeader = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
  const raw = req.headers['registrationid'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') throw invalidArgument('The registrationId header is required.');
  if (value.length > 256) throw invalidArgument('The registrationId header must be at most 256 characters.');
  return value;
});
