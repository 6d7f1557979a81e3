-- Times and positions no calendar or track holds (a Subsonic scrobble in the year 3 billion, a
-- time in microseconds) made every answer for that user fail. The store now corrects or refuses
-- them as they come in (annotations.play_time, playqueue's positions); this repairs what came
-- in before: a play time beyond tomorrow is forgotten (the play still counts), a position past
-- a week is the start.
UPDATE annotations SET last_played = NULL
  WHERE last_played IS NOT NULL
    AND (last_played < 0 OR last_played > CAST(strftime('%s', 'now') AS REAL) + 86400);
UPDATE annotations SET starred_at = CAST(strftime('%s', 'now') AS REAL)
  WHERE starred_at IS NOT NULL
    AND (starred_at < 0 OR starred_at > CAST(strftime('%s', 'now') AS REAL) + 86400);
UPDATE play_queues SET position_ms = 0 WHERE position_ms < 0 OR position_ms > 604800000;
UPDATE play_queues SET changed_at = CAST(strftime('%s', 'now') AS REAL)
  WHERE changed_at < 0 OR changed_at > CAST(strftime('%s', 'now') AS REAL) + 86400;
UPDATE bookmarks SET position_ms = 0 WHERE position_ms < 0 OR position_ms > 604800000;
