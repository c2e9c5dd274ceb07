-- Permissions -> Roles -> Users, as Auth0 recommends: permissions are granted
-- to roles, roles to users, never permissions to users directly.
CREATE TABLE permissions (
    name        TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL
);

CREATE TABLE roles (
    name        TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL
);

CREATE TABLE role_permissions (
    role       TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    permission TEXT NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
    PRIMARY KEY (role, permission)
) WITHOUT ROWID;

CREATE TABLE users (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name     TEXT NOT NULL,
    email    TEXT NOT NULL UNIQUE
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role)
) WITHOUT ROWID;

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('planned', 'active', 'on-hold', 'done')),
    owner_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);

-- The development provider's sign-in sessions (its cookie names a row), kept
-- here so that restarting dev-idp signs no one out.
CREATE TABLE idp_sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
