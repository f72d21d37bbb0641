using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// Notifications, server to kernel (FUSE-PROTOCOL.md §1.5): one write() of fuse_out_header
/// {len, error = the positive notify code, unique = 0} plus the notify struct and, for the
/// entry ones, the name and its NUL.
///
/// Thread safety: any thread may call these at any time; each builds its own buffer and the
/// device accepts concurrent writes (<see cref="IFuseDevice"/>). Deadlock rule: the kernel takes
/// the parent directory's i_rwsem for INVAL_ENTRY and DELETE (fs/fuse/dir.c
/// fuse_reverse_inval_entry) and the inode's page locks for INVAL_INODE, so a handler must not
/// send one for a directory or inode the request it is serving holds locked (e.g. from UNLINK
/// of a name in that directory); send it after replying, or from another thread.
/// </summary>
public sealed partial class FuseSession
{
    /// <summary>FUSE_NOTIFY_INVAL_INODE: drop the cached attributes of <paramref name="nodeId"/>
    /// and, when <paramref name="offset"/> ≥ 0, its page cache from there for
    /// <paramref name="length"/> bytes (≤ 0: to the end). Returns the device's answer: None,
    /// ENOENT when the kernel does not have the inode cached, ENODEV before INIT or after the
    /// session ended.</summary>
    public Errno NotifyInvalInode(ulong nodeId, long offset, long length)
    {
        var payload = new FuseNotifyInvalInodeOut { Ino = nodeId, Off = offset, Len = length };
        return this.SendNotification(FuseNotifyCode.FUSE_NOTIFY_INVAL_INODE, payload, default);
    }

    /// <summary>FUSE_NOTIFY_INVAL_ENTRY: drop the dentry <paramref name="name"/> in
    /// <paramref name="parent"/> (with <paramref name="expireOnly"/>, only expire it; that needs
    /// the kernel to have offered FUSE_HAS_EXPIRE_ONLY, else ENOSYS). EINVAL for a name that is
    /// empty, longer than 4095 bytes or contains NUL.</summary>
    public Errno NotifyInvalEntry(ulong parent, ReadOnlySpan<byte> name, bool expireOnly = false)
    {
        if (!ValidNotifyName(name))
        {
            return Errno.EINVAL;
        }

        if (expireOnly && (!this.initialized || (this.initResult.OfferedFlags & (ulong)FuseInitFlags.FUSE_HAS_EXPIRE_ONLY) == 0))
        {
            return this.initialized ? Errno.ENOSYS : Errno.ENODEV;
        }

        var payload = new FuseNotifyInvalEntryOut
        {
            Parent = parent,
            Namelen = (uint)name.Length,
            Flags = expireOnly ? FuseAbi.FUSE_EXPIRE_ONLY : 0,
        };
        return this.SendNotification(FuseNotifyCode.FUSE_NOTIFY_INVAL_ENTRY, payload, name);
    }

    /// <summary>FUSE_NOTIFY_DELETE: <paramref name="name"/> in <paramref name="parent"/>, which
    /// referred to <paramref name="child"/>, is gone; the kernel drops the dentry and, if the
    /// child is a directory it has cached, marks it dead. Same name rules as
    /// <see cref="NotifyInvalEntry"/>.</summary>
    public Errno NotifyDelete(ulong parent, ulong child, ReadOnlySpan<byte> name)
    {
        if (!ValidNotifyName(name))
        {
            return Errno.EINVAL;
        }

        var payload = new FuseNotifyDeleteOut { Parent = parent, Child = child, Namelen = (uint)name.Length };
        return this.SendNotification(FuseNotifyCode.FUSE_NOTIFY_DELETE, payload, name);
    }

    private static bool ValidNotifyName(ReadOnlySpan<byte> name) =>
        name.Length is > 0 and <= FuseAbi.NameMax && !name.Contains((byte)0);

    /// <summary>Writes out_header + <paramref name="payload"/> + (when <paramref name="name"/>
    /// is not empty) the name and a NUL, in one write().</summary>
    private Errno SendNotification<T>(FuseNotifyCode code, in T payload, ReadOnlySpan<byte> name)
        where T : unmanaged
    {
        if (!this.initialized || this.stopping)
        {
            return Errno.ENODEV;
        }

        int structSize = Unsafe.SizeOf<T>();
        int nameBytes = name.IsEmpty ? 0 : name.Length + 1;
        byte[] buffer = new byte[FuseOutHeader.SizeOf + structSize + nameBytes];
        var header = new FuseOutHeader
        {
            Len = (uint)buffer.Length,
            Error = (int)code,
            Unique = 0,
        };
        MemoryMarshal.Write(buffer, in header);
        MemoryMarshal.Write(buffer.AsSpan(FuseOutHeader.SizeOf), in payload);
        name.CopyTo(buffer.AsSpan(FuseOutHeader.SizeOf + structSize));

        // The trailing NUL is already zero in the new buffer.
        int rc = this.device.Write(buffer);
        return rc == 0 ? Errno.None : (Errno)(-rc);
    }
}
