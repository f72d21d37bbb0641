namespace Safemount.Fuse;

/// <summary>The caller of one request, from fuse_in_header: unique id, target node id and the
/// requesting task's uid, gid and pid (uid/gid may be FUSE_INVALID_UIDGID on idmapped mounts).</summary>
public readonly record struct FuseRequestContext(ulong Unique, ulong NodeId, uint Uid, uint Gid, uint Pid)
{
    /// <summary>The caller's umask from fuse_mknod_in, fuse_mkdir_in and fuse_create_in (MKNOD,
    /// MKDIR, CREATE, TMPFILE); 0 for every other request. The mode those requests carry already
    /// has it applied (FUSE_DONT_MASK is never taken); it matters for default ACLs only.</summary>
    public uint Umask { get; init; }

    /// <summary>OPEN only: fuse_open_in.open_flags had FUSE_OPEN_KILL_SUIDGID, i.e. an O_TRUNC
    /// open by a caller that must clear suid/sgid (HANDLE_KILLPRIV_V2).</summary>
    public bool KillSuidGid { get; init; }
}
