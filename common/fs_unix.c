/* fs.h on Unix: paths are bytes; the identity is stat's. */
#include "fs.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>

int
fs_stamp(const char *path, struct fs_stamp *out)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno ? -errno : -EIO;
	out->type = S_ISREG(st.st_mode) ? FS_TYPE_FILE :
	    S_ISDIR(st.st_mode) ? FS_TYPE_DIR : FS_TYPE_OTHER;
	out->volume = (uint64_t)st.st_dev;
	out->index = (uint64_t)st.st_ino;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL +
	    st.st_mtim.tv_nsec;
	out->size = (int64_t)st.st_size;
	return 0;
}

FILE *
fs_fopen(const char *path, const char *mode)
{
	return fopen(path, mode);
}

int
fs_open_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	return fd >= 0 ? fd : (errno ? -errno : -EIO);
}
