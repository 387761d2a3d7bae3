/**
 * The OAuth authorization server's records and the store contract they live behind. Imports no
 * implementation: the in-process store implements it, and the HTTP endpoints, the consent API and
 * the access-token authenticator use it.
 */

/** A registered client: from Dynamic Client Registration, or a fetched Client ID Metadata Document. */
export interface OAuthClient {
  /** `oc_…` for a registered client; the document's HTTPS URL for a metadata-document client. */
  readonly clientId: string;
  readonly clientName: string;
  /** Exact redirect URIs (a loopback one matches any port, RFC 8252 §7.3). */
  readonly redirectUris: readonly string[];
  readonly registeredAt: string;
  readonly via: "registration" | "metadata_document";
}

/** What the person agreed to: the scope a grant's tokens carry. */
export interface GrantScope {
  readonly modules: "all" | readonly string[];
  readonly readOnly: boolean;
  /** When the grant (and every token of it) ends. */
  readonly expiresAt: string;
}

/** An authorization request waiting for the person's decision on the consent page. */
export interface AuthorizationRequest {
  readonly id: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state?: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly createdAt: number;
}

/** A person's consent to one client: the tokens minted under it all end when it is revoked. */
export interface Grant {
  readonly id: string;
  readonly clientId: string;
  readonly clientName: string;
  /** The console user who consented (their id and name). */
  readonly userId: string;
  readonly userName: string;
  readonly scope: GrantScope;
  /** The resource (RFC 8707) the tokens are bound to: this gateway's `/mcp` URL. */
  readonly audience: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
  /** Why it was revoked: by a person, or because a spent refresh token came back. */
  readonly revokedWhy?: "revoked" | "refresh_reuse";
}

/** A one-time authorization code (stored by its hash). */
export interface CodeRecord {
  readonly grantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
  /** Set once the code was exchanged (a second use is a replay). */
  readonly spentAt?: number;
}

/** An access or refresh token (stored by its hash). */
export interface TokenRecord {
  readonly grantId: string;
  readonly expiresAt: number;
  /** Refresh tokens: set once the token was exchanged (a second use is reuse). */
  readonly spentAt?: number;
}

/** Where the authorization server keeps its state. */
export interface OAuthStore {
  putClient(client: OAuthClient): Promise<void>;
  getClient(clientId: string): Promise<OAuthClient | undefined>;
  putRequest(request: AuthorizationRequest): Promise<void>;
  /** The pending request (it stays until taken or expired). */
  getRequest(id: string): Promise<AuthorizationRequest | undefined>;
  /** Removes and answers the request: only one decision is ever made on it. */
  takeRequest(id: string): Promise<AuthorizationRequest | undefined>;
  putGrant(grant: Grant): Promise<void>;
  getGrant(id: string): Promise<Grant | undefined>;
  listGrants(): Promise<Grant[]>;
  /** Marks a grant revoked (once); answers the grant as it now is. */
  revokeGrant(id: string, at: Date, why: NonNullable<Grant["revokedWhy"]>): Promise<Grant | undefined>;
  putCode(hash: string, code: CodeRecord): Promise<void>;
  /** Marks a code spent and answers it as it was before (so a replay sees `spentAt`). */
  spendCode(hash: string, at: number): Promise<CodeRecord | undefined>;
  putAccess(hash: string, token: TokenRecord): Promise<void>;
  getAccess(hash: string): Promise<TokenRecord | undefined>;
  putRefresh(hash: string, token: TokenRecord): Promise<void>;
  /** Marks a refresh token spent and answers it as it was before (so a second use sees `spentAt`). */
  spendRefresh(hash: string, at: number): Promise<TokenRecord | undefined>;
}
