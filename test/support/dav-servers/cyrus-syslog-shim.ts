/**
 * Cyrus logs through syslog(3) only; on a machine without a syslog daemon (no /dev/log)
 * glibc drops every line. This preload library, compiled when a server starts, replaces
 * openlog/syslog/vsyslog (and glibc's fortified __syslog_chk/__vsyslog_chk, which Debian's
 * build calls) with appends to the file named by $LIAISON_CYRUS_SYSLOG_FILE.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The variable naming the file the library appends to; master passes it on to every child. */
export const SYSLOG_FILE_VARIABLE = 'LIAISON_CYRUS_SYSLOG_FILE';

/**
 * The preload library that turns syslog(3) into appends to $LIAISON_CYRUS_SYSLOG_FILE.
 * One write(2) per line on an O_APPEND descriptor, so lines of concurrent processes do not
 * interleave. errno is restored before formatting because Cyrus logs with %m.
 */
const SYSLOG_SHIM_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static char ident[128] = "cyrus";

void openlog(const char *id, int option, int facility) {
  (void)option;
  (void)facility;
  if (id) snprintf(ident, sizeof ident, "%s", id);
}
void closelog(void) {}
int setlogmask(int mask) {
  (void)mask;
  return 0xff;
}
void vsyslog(int priority, const char *format, va_list ap) {
  static const char *const levels[] = {"EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG"};
  const char *path = getenv("LIAISON_CYRUS_SYSLOG_FILE");
  if (!path) return;
  int saved = errno;
  char line[8192];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, ident,
                   (int)getpid(), levels[LOG_PRI(priority)]);
  if (n < 0) n = 0;
  errno = saved;
  if (n < (int)sizeof line) n += vsnprintf(line + n, sizeof line - n, format, ap);
  if (n > (int)sizeof line - 2) n = sizeof line - 2;
  if (n > 0 && line[n - 1] != '\n') line[n++] = '\n';
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t written = write(fd, line, n);
    (void)written;
    close(fd);
  }
  errno = saved;
}
void syslog(int priority, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsyslog(priority, format, ap);
  va_end(ap);
}
void __syslog_chk(int priority, int flag, const char *format, ...) {
  (void)flag;
  va_list ap;
  va_start(ap, format);
  vsyslog(priority, format, ap);
  va_end(ap);
}
void __vsyslog_chk(int priority, int flag, const char *format, va_list ap) {
  (void)flag;
  vsyslog(priority, format, ap);
}
`;

/** Builds the syslog shim into `root`; undefined (and a note in the log folder) without a compiler. */
export async function buildSyslogShim(root: string, logDir: string): Promise<string | undefined> {
  const source = join(root, 'syslog-to-file.c');
  const library = join(root, 'syslog-to-file.so');
  writeFileSync(source, SYSLOG_SHIM_C);
  const cc = process.env.CC !== undefined && process.env.CC !== '' ? process.env.CC : 'cc';
  try {
    await execFileAsync(cc, ['-shared', '-fPIC', '-O2', '-o', library, source]);
    return library;
  } catch (e) {
    writeFileSync(
      join(logDir, 'README'),
      `Cyrus logs through syslog(3) only and this machine has no syslog daemon; the preload library\n` +
        `that writes those lines to cyrus.log could not be built with "${cc}" (${e instanceof Error ? e.message : e}).\n` +
        `Install a C compiler (Debian: gcc) to get Cyrus's own log lines; master.log still has master's output.\n`,
    );
    return undefined;
  }
}
