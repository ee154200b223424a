/*
 * svcscan_win.c under Wine (or Windows): every running service the SCM
 * lists with a pid comes out in that process's service string (its own
 * name, or, for a shared host whose sockets name services, one of them),
 * and the statistics say whether the owner-module API exists (Wine: no,
 * so shared hosts keep the SCM's list; docs/windows.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <winsock2.h>
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "svcscan.h"

static void test_scan(void **state)
{
	struct svcscan *s = svcscan_new();
	struct svcmap *m = svcmap_new();
	struct svcscan_stats st;
	char err[256], buf[SVCMAP_MAX_STRING];
	SC_HANDLE scm;
	DWORD need = 0, count = 0, resume = 0;
	static unsigned char raw[256 * 1024];
	ENUM_SERVICE_STATUS_PROCESSA *v = (void *)raw;
	unsigned checked = 0;

	(void)state;
	assert_non_null(s);
	assert_non_null(m);
	assert_int_equal(svcscan_run(s, m, err, sizeof(err)), 0);
	svcscan_stats(s, &st);
	printf("services %u, shared hosts %u, owner-module api %s, "
	    "queries %u, sockets naming a service %u\n", st.services,
	    st.shared_hosts, st.owner_module_api ? "yes" : "no", st.queries,
	    st.owner_services);
	assert_true(st.services > 0);

	/* The SCM's own answer, asked here independently (ANSI). */
	scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_ENUMERATE_SERVICE);
	assert_non_null(scm);
	assert_true(EnumServicesStatusExA(scm, SC_ENUM_PROCESS_INFO,
	    SERVICE_WIN32, SERVICE_ACTIVE, raw, sizeof(raw), &need, &count,
	    &resume, NULL));
	CloseServiceHandle(scm);
	for (DWORD i = 0; i < count; i++) {
		DWORD pid = v[i].ServiceStatusProcess.dwProcessId;

		if (pid == 0)
			continue;
		assert_true(svcmap_get(m, (int32_t)pid, buf, sizeof(buf)) > 0);
		if (st.owner_services == 0) {
			/* No socket named a service: the full SCM list. */
			char pat[300];

			snprintf(pat, sizeof(pat), ",%s,", v[i].lpServiceName);
			{
				char wrapped[SVCMAP_MAX_STRING + 2];

				snprintf(wrapped, sizeof(wrapped), ",%s,", buf);
				assert_non_null(strstr(wrapped, pat));
			}
		}
		checked++;
	}
	assert_true(checked > 0);
	svcmap_free(m);
	svcscan_free(s);
	svcscan_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
