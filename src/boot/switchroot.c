/* SPDX-License-Identifier: GPL-2.0-or-later */
/* switch_root for PID 1: the checks busybox makes, then util-linux's order of moves, and
 * only then the deletion of the old root, relative to an fd so it can never hit the new one. */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "boot/switchroot.h"
#include "util.h"

#define READ_CHUNK  (64U * 1024U)
#define SHEBANG_MAX 256U

static int open_in_root(int root_fd, const char *path)
{
        struct open_how how = {
            .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        while (*path == '/')
                path++;
        fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        return fd < 0 ? negative_errno() : (int) fd;
}

/* Reads the whole file, so that dm-verity checks every block of it now. */
static int read_through(int fd, char *head, size_t head_size, size_t *ret_head_len)
{
        _cleanup_free_ char *buf = malloc(READ_CHUNK);
        size_t total = 0;

        if (!buf)
                return -ENOMEM;
        *ret_head_len = 0;
        for (;;) {
                ssize_t n = read(fd, buf, READ_CHUNK);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return 0;
                if (total < head_size) {
                        size_t c = (size_t) n < head_size - total ? (size_t) n : head_size - total;
                        memcpy(head + total, buf, c);
                        *ret_head_len = total + c;
                }
                total += (size_t) n;
        }
}

static int shebang_interpreter(const char *head, size_t len, char *ret, size_t size)
{
        size_t i = 2, start;

        if (len < 2 || head[0] != '#' || head[1] != '!')
                return 0;
        while (i < len && (head[i] == ' ' || head[i] == '\t'))
                i++;
        start = i;
        while (i < len && head[i] != ' ' && head[i] != '\t' && head[i] != '\n')
                i++;
        if (i == start || i - start >= size)
                return -ENOEXEC;
        memcpy(ret, head + start, i - start);
        ret[i - start] = 0;
        return 1;
}

static int elf_interpreter(int fd, const char *head, size_t len, char *ret, size_t size)
{
        Elf64_Ehdr eh;

        if (len < sizeof(eh) || memcmp(head, ELFMAG, SELFMAG) != 0)
                return 0;
        memcpy(&eh, head, sizeof(eh));
        if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
                return 0;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                Elf64_Phdr ph;

                if (pread(fd, &ph, sizeof(ph), (off_t) (eh.e_phoff + (uint64_t) i * sizeof(ph))) !=
                    (ssize_t) sizeof(ph))
                        return -ENOEXEC;
                if (ph.p_type != PT_INTERP)
                        continue;
                if (ph.p_filesz < 2 || ph.p_filesz > size)
                        return -ENOEXEC;
                if (pread(fd, ret, ph.p_filesz, (off_t) ph.p_offset) != (ssize_t) ph.p_filesz)
                        return -ENOEXEC;
                ret[ph.p_filesz - 1] = 0;
                return 1;
        }
        return 0;
}

static int verify_one(int root_fd, const char *path, bool *ret_read_failed, char *ret_interp,
                      size_t interp_size)
{
        _cleanup_close_ int fd = -1;
        char head[4096];
        size_t head_len;
        struct stat st;
        int r;

        /* -EIO on the way to the file is dm-verity refusing a directory or inode block: the
         * file may well be there, but the root was changed. */
        fd = open_in_root(root_fd, path);
        if (fd < 0) {
                *ret_read_failed = fd == -EIO;
                return fd;
        }
        if (fstat(fd, &st) < 0) {
                *ret_read_failed = errno == EIO;
                return negative_errno();
        }
        if (!S_ISREG(st.st_mode))
                return -EISDIR;
        if (!(st.st_mode & 0111))
                return -EACCES;

        r = read_through(fd, head, sizeof(head), &head_len);
        if (r < 0) {
                *ret_read_failed = true;
                return r;
        }
        /* Neither a script nor ELF: execve() would refuse it, but only after the point of no
         * return, so refuse it here, while the initramfs can still stop the boot. */
        if (head_len < SELFMAG ||
            (memcmp(head, "#!", 2) != 0 && memcmp(head, ELFMAG, SELFMAG) != 0))
                return -ENOEXEC;
        ret_interp[0] = 0;
        r = shebang_interpreter(head, head_len, ret_interp, interp_size);
        if (r == 0)
                r = elf_interpreter(fd, head, head_len, ret_interp, interp_size);
        return r < 0 ? r : 0;
}

int switchroot_verify_init(const char *new_root, const char *init, bool *ret_read_failed,
                           char **ret_failed_path)
{
        _cleanup_close_ int root_fd = -1;
        char interp[SHEBANG_MAX + 4096], unused[8];
        bool read_failed = false;
        const char *failed = init;
        int r;

        root_fd = open(new_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return negative_errno();

        r = verify_one(root_fd, init, &read_failed, interp, sizeof(interp));
        if (r >= 0 && interp[0]) {
                /* One level is enough: interpreters are ELF programs whose own interpreter is
                 * the dynamic loader, which is always read by the exec anyway. */
                failed = interp;
                r = verify_one(root_fd, interp, &read_failed, unused, sizeof(unused));
                if (r == -ENOEXEC || r == -ENAMETOOLONG)
                        r = 0;
        }
        if (r < 0) {
                *ret_read_failed = read_failed;
                if (ret_failed_path)
                        *ret_failed_path = strdup(failed);
        }
        return r;
}

int switchroot_remove_tree(int dir_fd, unsigned long long dev, unsigned max_depth)
{
        DIR *d;
        struct dirent *de;
        int copy, r = 0;

        copy = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return negative_errno();
        d = fdopendir(copy);
        if (!d) {
                r = negative_errno();
                close(copy);
                return r;
        }
        while ((de = readdir(d))) {
                struct stat st;
                bool is_dir;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = r < 0 ? r : negative_errno();
                        continue;
                }
                /* Another file system mounted here (the new root, a moved /dev): not ours. */
                if ((unsigned long long) st.st_dev != dev)
                        continue;
                is_dir = S_ISDIR(st.st_mode);
                if (is_dir) {
                        _cleanup_close_ int sub = -1;

                        if (max_depth == 0) {
                                r = r < 0 ? r : -ELOOP;
                                continue;
                        }
                        sub = openat(dir_fd, de->d_name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = r < 0 ? r : negative_errno();
                                continue;
                        }
                        int q = switchroot_remove_tree(sub, dev, max_depth - 1);
                        if (q < 0 && r == 0)
                                r = q;
                }
                if (unlinkat(dir_fd, de->d_name, is_dir ? AT_REMOVEDIR : 0) < 0 && r == 0)
                        r = negative_errno();
        }
        closedir(d);
        return r;
}

static bool is_initramfs(const struct statfs *sfs)
{
        return sfs->f_type == (__typeof__(sfs->f_type)) RAMFS_MAGIC ||
               sfs->f_type == (__typeof__(sfs->f_type)) TMPFS_MAGIC;
}

int switchroot_move(const char *new_root)
{
        static const char *const moved[] = {"/dev", "/proc", "/sys", "/run"};
        _cleanup_close_ int old_root_fd = -1;
        struct stat root_st, new_st;
        struct statfs sfs;
        int r;

        if (getpid() != 1)
                return -EPERM;
        if (stat("/", &root_st) < 0 || stat(new_root, &new_st) < 0)
                return negative_errno();
        if (root_st.st_dev == new_st.st_dev)
                return -EXDEV; /* new_root is not a mount of its own */
        if (statfs("/", &sfs) < 0)
                return negative_errno();
        if (!is_initramfs(&sfs))
                return -EMEDIUMTYPE;

        for (size_t i = 0; i < ELEMENTSOF(moved); i++) {
                char target[4096];

                r = pathf(target, sizeof(target), "%s%s", new_root, moved[i]);
                if (r < 0)
                        return r;
                /* A root without the directory cannot receive the mount; like util-linux,
                 * detach it rather than leave it pinned in the old root. */
                if (mount(moved[i], target, NULL, MS_MOVE, NULL) < 0)
                        (void) umount2(moved[i], MNT_DETACH);
        }

        if (chdir(new_root) < 0)
                return negative_errno();
        old_root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (old_root_fd < 0)
                return negative_errno();
        if (mount(new_root, "/", NULL, MS_MOVE, NULL) < 0)
                return negative_errno();
        if (chroot(".") < 0 || chdir("/") < 0)
                return negative_errno();

        /* Only now, with the new root in place, free the initramfs's memory. */
        (void) switchroot_remove_tree(old_root_fd, (unsigned long long) root_st.st_dev, 64);
        return 0;
}
