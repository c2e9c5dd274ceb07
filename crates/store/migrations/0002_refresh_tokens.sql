-- The development provider's refresh tokens (OAuth 2.0, rotated on every
-- use). A row is one token of a family: the token a sign-in issued and every
-- token rotated from it share `family_id`, and so the user, client, scope,
-- audience, `auth_time` and absolute expiry of that sign-in.
--
-- Only a hash of the token is kept (base64url SHA-256): reading this file
-- yields nothing that can be presented at the token endpoint.
CREATE TABLE refresh_tokens (
    token_hash      TEXT PRIMARY KEY NOT NULL,
    family_id       TEXT NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    -- The scope granted at sign-in, space-separated; a family keeps it.
    scope           TEXT NOT NULL,
    audience        TEXT,
    -- When the user signed in (seconds since the Unix epoch).
    auth_time       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    -- The family's absolute end: no rotation extends it.
    expires_at      INTEGER NOT NULL,
    -- This token's idle end: unused for this long, it is dead.
    idle_expires_at INTEGER NOT NULL,
    -- When this token was rotated (presented and replaced); NULL while live.
    used_at         INTEGER,
    -- When the family was revoked (reuse detected, or RFC 7009 revocation).
    revoked_at      INTEGER
);

CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);
