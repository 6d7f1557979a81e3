-- The music folders a user sees, by name (a JSON list, as [music_folders] names them);
-- NULL: every folder. A child's account kept to "Kids" sees nothing else, in apps or pages.
ALTER TABLE users ADD COLUMN folders TEXT;
