-- Browser sessions of the dashboard: a login with an API key sets a cookie whose token is kept
-- here only as its SHA-256. The session holds the key's hash, so revoking the key ends its
-- sessions at once; state-changing requests made with the cookie must carry the CSRF token.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    key_hash   bytea NOT NULL CHECK (length(key_hash) = 32),
    csrf_token text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
