#include <stdlib.h>
#include <string.h>

#include "hostsfile.h"

char *
hostsfile_default_path(void)
{
	return strdup("/etc/hosts");
}
