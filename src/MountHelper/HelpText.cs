namespace Safemount.MountHelper;

/// <summary>The --help text (System.CommandLine prints it: <see cref="Safemount.Shared.CommandLine.ProgramCommand"/>).</summary>
internal static class HelpText
{
    public const string ProgramName = "mount.safe.ext4";

    public const string Usage = """
        Usage:
         mount.safe.ext4 SOURCE DIR [-sfnv] [-N NS] [-o OPTIONS] [-t safe.ext4]
         mount.safe.ext4 -h|--help | -V|--version

        Mount the ext4 (ext2/ext3) file system on SOURCE at DIR without letting the kernel
        parse its metadata: an unprivileged, sandboxed safemount-ext4 service reads the
        image and serves it over FUSE (fuseblk). Normally run by mount(8) for
        "mount -t safe.ext4"; must run as root.

        SOURCE is a block device, or a regular file that is attached to a free loop device
        (read-only for ro), as "mount -o loop" would do.

        Options:
         -o OPTIONS     comma-separated mount options (may be repeated); a value that
                        contains commas is written in double quotes: -o 'x="a,b"'
         -n             do not write /etc/mtab (accepted; never written anyway)
         -v             show each step on stderr: the service connection, HELLO, the mount
                        request, the descriptors sent, the service's answer, the mount
                        system calls (fsmount/move_mount) and READY
         -s             tolerate bad options: drop them with a warning, and ask the
                        service to drop fs options it does not know
         -f             fake: do everything except the mount system call
         -N NS          mount in another mount namespace (a pid or a path); not
                        supported by this build
         -t TYPE        the file system type; only safe.ext4 is accepted
         -h, --help     show this help and exit
         -V, --version  show the version and exit

        Mount options enforced by mount.safe.ext4:
         nosuid,nodev   always, unless suid or dev is given explicitly
         ro, rw         read-only or read-write (the service may force read-only)
         exec, noexec   allow or forbid execution
         noatime, relatime (default), strictatime, nodiratime, diratime
         nofail         a SOURCE that does not exist is not an error: nothing is
                        mounted and the exit status is 0
         iomap=auto|on|off
                        the FUSE data path: with fuse-iomap (a kernel with Darrick
                        Wong's series and fuse.enable_iomap=1) the kernel moves file
                        data itself; auto (default) uses it when the kernel has it,
                        on fails the mount (exit 32) naming why it is unavailable,
                        off never asks; also passed to the service
         default_permissions and allow_other are always set; user_id and group_id are 0.
        Ignored (meaningful to mount(8) only): defaults, auto, noauto, user, nouser, users,
         owner, group, _netdev, loop, x-*, comment=*.
        Every other option is passed to the service, which refuses what it does not know;
        besides the ext4 options it takes cache_size=SIZE, the budget of its metadata
        block cache (bytes, or with a k, m or g suffix; 1m to 64g; default 16m).
        Refused: remount (exit 32). A safe.ext4 mount cannot be reconfigured in place;
         unmount it and mount it again with the new options. Per-mount flags alone
         (ro, nosuid, noexec, ...) can be changed with "mount -o remount,bind,ro DIR",
         which mount(8) does without this helper.

        Environment:
         SAFEMOUNT_SOCKET       service socket (default /run/safemount/ext4.sock)
         SAFEMOUNT_SERVICE      service binary started when the socket is absent
                                (default /usr/libexec/safemount/safemount-ext4)
         SAFEMOUNT_SERVICE_LOG  file a directly spawned service logs to (default none)

        Without the socket the helper starts the service itself: a transient systemd
        unit where systemd runs, else a direct spawn (-v says which).

        Exit status: 0 success, 1 usage or permission error, 32 mount failure.
        """;
}
