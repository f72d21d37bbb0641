namespace Safemount.Fuse;

/// <summary>The caller of one request, from fuse_in_header: unique id, target node id and the
/// requesting task's uid, gid and pid (uid/gid may be FUSE_INVALID_UIDGID on idmapped mounts).</summary>
public readonly record struct FuseRequestContext(ulong Unique, ulong NodeId, uint Uid, uint Gid, uint Pid);
