-- The Project List reads the newest projects first, one page at a time:
-- with this index a page costs its own rows, instead of a sort of the whole
-- table on every request (the list grows with every project created).
CREATE INDEX projects_newest_first ON projects (created_at DESC, id DESC);
