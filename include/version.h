/*
 * version.h — the version of tidewatch (`tidewatch --version`, build info
 * in /metrics).  The build may define TW_VERSION.
 */
#ifndef TW_VERSION_H
#define TW_VERSION_H

#ifndef TW_VERSION
#define TW_VERSION "0.1.0"
#endif

#endif
