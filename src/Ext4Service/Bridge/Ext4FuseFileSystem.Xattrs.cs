using System.Text;
using Safemount.Ext4;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>GETXATTR / LISTXATTR with the kernel ext4 driver's visibility rules
/// (fs/ext4/xattr.c ext4_xattr_handler_map and each handler's list()).</summary>
internal sealed partial class Ext4FuseFileSystem
{
    /// <summary>XATTR_NAME_MAX (linux/limits.h).</summary>
    private const int XattrNameMax = 255;

    /// <summary>Namespaces with an ext4 handler and a non-empty suffix ("user.x").</summary>
    private static readonly string[] PrefixNamespaces = ["user.", "trusted.", "security."];

    /// <summary>Names with an ext4 handler that are complete as they stand.</summary>
    private static readonly string[] ExactNames = ["system.posix_acl_access", "system.posix_acl_default", "system.data"];

    public Errno GetXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name, out byte[]? value)
    {
        value = null;
        if (name.Length == 0 || name.Length > XattrNameMax)
        {
            return name.Length == 0 ? Errno.EINVAL : Errno.ERANGE;
        }

        Errno e = GetInode(nodeId, out Ext4Inode? inode);
        if (e != Errno.None)
        {
            return e;
        }

        string full = Encoding.UTF8.GetString(name);
        if (!HasKnownPrefix(full))
        {
            return Errno.EOPNOTSUPP;
        }

        value = IsReadOnly ? _volume.GetXattr(inode!, full) : _volume.GetXattr(inode!.Number, full);
        return value is null ? Errno.ENODATA : Errno.None;
    }

    public Errno ListXattr(in FuseRequestContext ctx, ulong nodeId, out byte[] names)
    {
        names = [];
        Errno e = GetInode(nodeId, out Ext4Inode? inode);
        if (e != Errno.None)
        {
            return e;
        }

        var list = new List<byte>();
        foreach (string n in IsReadOnly ? _volume.ListXattrNames(inode!) : _volume.ListXattrNames(inode!.Number))
        {
            // trusted.* is listed only to CAP_SYS_ADMIN (ext4_xattr_trusted_list); the requesting
            // uid is the closest the FUSE request tells us. system.data (inline data) has no
            // list handler.
            if ((n.StartsWith("trusted.", StringComparison.Ordinal) && ctx.Uid != 0) || n == "system.data")
            {
                continue;
            }

            list.AddRange(Encoding.UTF8.GetBytes(n));
            list.Add(0);
        }

        names = list.ToArray();
        return Errno.None;
    }

    private static bool HasKnownPrefix(string name) =>
        Array.IndexOf(ExactNames, name) >= 0 ||
        Array.Exists(PrefixNamespaces, p => name.Length > p.Length && name.StartsWith(p, StringComparison.Ordinal));
}
