/* The store's schema migrations, embedded at build time from migrations/NNNN_name.sql
 * by scripts/embed-migrations.sh, in ascending version order. Version N is recorded
 * in PRAGMA user_version once migration N has run. */
#ifndef GD_MIGRATIONS_H
#define GD_MIGRATIONS_H

struct gd_migration {
    int version;      /* NNNN of the file name, 1, 2, ... without gaps */
    const char *name; /* file name without .sql */
    const char *sql;  /* the whole file */
};

extern const struct gd_migration gd_migrations[];
extern const int gd_migrations_count;

#endif
