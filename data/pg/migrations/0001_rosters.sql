-- 0001: roster versions, their counts by discipline, the current-version
-- pointer, and the providers of every version (one partition per version).

CREATE TABLE roster_versions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status        text NOT NULL DEFAULT 'loading'
                  CHECK (status IN ('loading', 'published', 'failed', 'retired')),
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz,           -- the load ended: published or failed
    published_at  timestamptz,
    retired_at    timestamptz,
    source        text NOT NULL DEFAULT '',   -- file name or what the loader said
    checksum      text NOT NULL DEFAULT '',   -- hex SHA-256 of the source file
    rows_read     integer NOT NULL DEFAULT 0, -- data rows in the file
    providers     integer NOT NULL DEFAULT 0, -- rows accepted: the roster's size
    bad_rows      integer NOT NULL DEFAULT 0, -- rows rejected with an error
    forced        boolean NOT NULL DEFAULT false, -- published past the shrink guard
    error         text NOT NULL DEFAULT '',   -- why a load failed
    CHECK ((published_at IS NOT NULL) = (status IN ('published', 'retired'))),
    CHECK ((retired_at IS NOT NULL) = (status = 'retired'))
);

COMMENT ON TABLE roster_versions IS
    'geoaccess: one row per roster load, kept for audit after its providers are retired';

CREATE TABLE roster_version_counts (
    version_id       bigint NOT NULL REFERENCES roster_versions (id),
    discipline       text NOT NULL CHECK (discipline IN ('DC', 'PT', 'OT', 'ST')),
    providers        integer NOT NULL,
    participating    integer NOT NULL,
    telehealth_only  integer NOT NULL, -- participating and telehealth-only
    PRIMARY KEY (version_id, discipline)
);

-- The version geoaccess serves: the latest published, or the one an
-- operator rolled back to. One row at most.
CREATE TABLE roster_current (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version_id  bigint NOT NULL REFERENCES roster_versions (id),
    since       timestamptz NOT NULL
);

-- Providers by roster version. Each version is its own partition,
-- providers_v<id>, loaded while detached and attached when published, so
-- publishing is one catalog change and retiring a version is DROP TABLE:
-- no million-row DELETE, no bloat. No foreign key to roster_versions: it
-- would fire a trigger per copied row.
CREATE TABLE providers (
    version_id              bigint NOT NULL,
    row_no                  integer NOT NULL, -- 0-based position in the roster
    line                    integer NOT NULL, -- line in the source file
    npi                     text NOT NULL,
    discipline              text NOT NULL,
    name                    text NOT NULL DEFAULT '',
    lat                     double precision NOT NULL,
    lon                     double precision NOT NULL,
    address1                text NOT NULL DEFAULT '',
    address2                text NOT NULL DEFAULT '',
    city                    text NOT NULL DEFAULT '',
    state                   text NOT NULL DEFAULT '',
    zip                     text NOT NULL DEFAULT '',
    county_fips             text NOT NULL DEFAULT '',
    network                 text NOT NULL DEFAULT '',
    participating           boolean NOT NULL,
    telehealth_only         boolean NOT NULL,
    accepting_new_patients  boolean NOT NULL,
    effective_date          date,
    termination_date        date,
    PRIMARY KEY (version_id, row_no),
    CHECK (length(npi) = 10),
    CHECK (discipline IN ('DC', 'PT', 'OT', 'ST')),
    CHECK (lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180),
    CHECK (termination_date > effective_date)
) PARTITION BY LIST (version_id);
