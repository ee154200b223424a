/*
 * Quoting a service's command line.  Windows Installer (Wine's msiexec at
 * least) registers a ServiceInstall entry as "<exe path>[ <arguments>]"
 * without quotes.  Our exe path is under "C:\Program Files", so the SCM
 * would first try to run "C:\Program.exe": the unquoted service path
 * weakness.  procnet-svcpath rewrites the path quoted right after
 * InstallServices (a deferred custom action in procnet.wxs).
 */
#ifndef PROCNET_SVCPATH_H
#define PROCNET_SVCPATH_H

#include <stddef.h>

/* The SCM's own limit for a QUERY_SERVICE_CONFIG is 8 KiB. */
#define SVCPATH_MAX	8192u	/* bytes, NUL included */

/*
 * Writes cmdline with its executable part quoted into out (UTF-8).  The
 * executable ends at the first ".exe" (any case) followed by a space or the
 * end.  A command line that already starts with a quote is copied as is
 * (it must close that quote).  Returns 0, -EINVAL (empty, no ".exe", a
 * stray quote) or -ENAMETOOLONG (out too small, or over SVCPATH_MAX).
 */
int svcpath_quote(const char *cmdline, char *out, size_t outlen);

#endif
