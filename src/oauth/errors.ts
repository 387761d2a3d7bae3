/**
 * The authorization server's one error type: an RFC 6749 §5.2 error code, its description and the
 * HTTP status it is answered with. The endpoints render it as the JSON body RFC 6749 specifies
 * (or, at /authorize, as the redirect or page RFC 6749 §4.1.2.1 calls for).
 */

/** The error codes the endpoints answer with (RFC 6749, RFC 7591 §3.2.2, RFC 8707 §2). */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "invalid_target"
  | "access_denied"
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  | "temporarily_unavailable";

/** A refusal of the authorization server. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    message: string,
    readonly status = error === "invalid_client" ? 401 : 400,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "OAuthError";
  }

  /** The JSON body of RFC 6749 §5.2. */
  body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}
