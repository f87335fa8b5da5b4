-- 0003: plan registries (plans files) as versions, like rosters: one row
-- per load, the current-version pointer, and the plans of every version.

CREATE TABLE plan_versions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status        text NOT NULL DEFAULT 'loading'
                  CHECK (status IN ('loading', 'published', 'failed', 'retired')),
    loaded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz,           -- the load ended: published or failed
    published_at  timestamptz,
    retired_at    timestamptz,
    source        text NOT NULL DEFAULT '',   -- file name or what the loader said
    sha256        text NOT NULL DEFAULT '',   -- hex SHA-256 of the plans file
    plans         integer NOT NULL DEFAULT 0, -- plans in the version
    error         text NOT NULL DEFAULT '',   -- why a load failed
    CHECK ((published_at IS NOT NULL) = (status IN ('published', 'retired'))),
    CHECK ((retired_at IS NOT NULL) = (status = 'retired'))
);

COMMENT ON TABLE plan_versions IS
    'geoaccess: one row per plans-file load, published or failed';

-- The plans version geoaccess serves: the latest published, or the one an
-- operator rolled back to. One row at most.
CREATE TABLE plan_current (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version_id  bigint NOT NULL REFERENCES plan_versions (id),
    since       timestamptz NOT NULL
);

-- The plans of each version, validated by the loader. service_area holds
-- county FIPS codes, states already expanded; empty means no restriction.
CREATE TABLE plans (
    version_id       bigint NOT NULL REFERENCES plan_versions (id),
    plan_id          text NOT NULL,
    name             text NOT NULL,
    product_line     text NOT NULL
                     CHECK (product_line IN ('medicare_advantage', 'commercial', 'medicaid', 'marketplace', 'other')),
    profile          text NOT NULL,
    profile_version  text NOT NULL DEFAULT '', -- '' = the version in effect on the as-of date
    networks         text[] NOT NULL,
    service_area     text[] NOT NULL DEFAULT '{}',
    effective_from   date,                     -- NULL = no start
    effective_to     date,                     -- NULL = open-ended
    PRIMARY KEY (version_id, plan_id),
    CHECK (cardinality(networks) > 0 AND array_position(networks, NULL) IS NULL),
    CHECK (array_position(service_area, NULL) IS NULL),
    CHECK (effective_to >= effective_from)
);
