-- What a plugin keeps for a user (a scrobbling service's session, a preference): one JSON
-- object per user and plugin, written only through that plugin's ctx.library.keep_user_data.
CREATE TABLE plugin_user_data (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plugin TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    updated_at REAL NOT NULL,
    PRIMARY KEY (user_id, plugin)
);
