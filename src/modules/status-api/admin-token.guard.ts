import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';

/** What the guard needs of Express's request and response (no @types/express dependency). */
interface HeaderedRequest {
  readonly headers: { readonly authorization?: string };
}
interface HeaderedResponse {
  setHeader(name: string, value: string): void;
}
import { APP_CONFIG, type AppConfig } from '../../config/config.types';

/** Compared as SHA-256 digests: equal length, so timingSafeEqual says nothing about the token's length either. */
function sameToken(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The admin routes (run a job now, reload the config) need `Authorization: Bearer <http.adminToken>`.
 * Without a configured token they are off: 403 whatever is sent. A missing or wrong token: 401. The token is
 * never logged or echoed (the config loader also registers it with the log masker).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.http.adminToken;
    if (!expected) throw new ForbiddenException('admin routes are off: set http.adminToken (or env INGESTOR_ADMIN_TOKEN) to enable them');
    const http = context.switchToHttp();
    const header = http.getRequest<HeaderedRequest>().headers.authorization ?? '';
    const given = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1] ?? '';
    if (!sameToken(given, expected)) {
      http.getResponse<HeaderedResponse>().setHeader('WWW-Authenticate', 'Bearer realm="meshcore-ingestor admin"');
      throw new UnauthorizedException(header === '' ? 'an admin token is required: Authorization: Bearer <token>' : 'wrong admin token');
    }
    return true;
  }
}
