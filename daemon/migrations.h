/* The store's schema migrations, embedded at build time by scripts/embed-migrations.sh:
 * migrations/sqlite/NNNN_name.sql for the SQLite store (version N recorded in PRAGMA
 * user_version once migration N has run) and migrations/postgres/NNNN_name.sql for the
 * PostgreSQL store (recorded in its schema_version table), each in ascending version
 * order without gaps. */
#ifndef GD_MIGRATIONS_H
#define GD_MIGRATIONS_H

struct gd_migration {
    int version;      /* NNNN of the file name, 1, 2, ... without gaps */
    const char *name; /* file name without .sql */
    const char *sql;  /* the whole file */
};

extern const struct gd_migration gd_migrations_sqlite[];
extern const int gd_migrations_sqlite_count;
extern const struct gd_migration gd_migrations_pg[];
extern const int gd_migrations_pg_count;

#endif
