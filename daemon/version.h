/* version.h — what this daemon is: its version and the commit it was built from.
 *
 * GD_VERSION is the release; gd_build_commit is `git describe --always --dirty` of the
 * tree it was built from ("unknown" outside a git checkout), written at build time by
 * scripts/gen-version.sh. Both go into every run's provenance and `ganctld --version`.
 * Constant data. */
#ifndef GD_VERSION_H
#define GD_VERSION_H

#define GD_VERSION "0.1.0"

extern const char gd_build_commit[];

#endif
