-- The room a resource reaction was made in, so the room's owner can count
-- what a room holds against its quotas (store.ReactionUsage). Rows stored
-- before have room ''.
ALTER TABLE roomring_resource_reactions ADD COLUMN room text COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX roomring_resource_reactions_room_user ON roomring_resource_reactions (room, user_id);
CREATE INDEX roomring_resource_reactions_room_target ON roomring_resource_reactions (room, resource, comment);
