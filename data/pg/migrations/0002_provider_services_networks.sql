-- 0002: each provider row's networks, professional specialty designations
-- and declared services, as canonical codes (sorted, distinct), and the
-- old single network moved into networks.

ALTER TABLE providers
    ADD COLUMN networks      text[] NOT NULL DEFAULT '{}',
    ADD COLUMN designations  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN services      text[] NOT NULL DEFAULT '{}';

-- Rosters loaded before: their one network becomes a list of one.
UPDATE providers SET networks = ARRAY[network] WHERE network <> '';

ALTER TABLE providers ADD CONSTRAINT providers_lists_check CHECK (
    cardinality(networks) <= 32
    AND array_position(networks, NULL) IS NULL
    AND array_position(designations, NULL) IS NULL
    AND array_position(services, NULL) IS NULL);

COMMENT ON COLUMN providers.network IS
    'deprecated (0002): the first of networks, kept for readers older than 0002';
