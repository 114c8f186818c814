-- Till store schema, version 4: the till's staff and their PINs.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere: add 0005_*.sql.
--
-- PINs are stored only as argon2 PHC strings (the app hashes and verifies; the store keeps
-- them). Staff are local to the till: a cashier logs in even when the server is down.
-- Wrong-PIN lockout is per till and survives restarts: `login_guard` holds the count of
-- consecutive wrong PINs and, once the limit is reached, the time (ms) until which logins
-- are refused.

CREATE TABLE staff (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('cashier', 'owner')),
    pin_hash    TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

CREATE TABLE login_guard (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER
);
INSERT INTO login_guard (id, failures, locked_until) VALUES (1, 0, NULL);
