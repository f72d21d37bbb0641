using System.Text;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>
/// Splits a full xattr name into ext4's (e_name_index, e_name) as the kernel's handlers do
/// (fs/ext4/xattr_user.c, xattr_trusted.c, xattr_security.c, acl.c; fs/xattr.c
/// xattr_resolve_name): "user.", "trusted.", "security." carry a non-empty suffix; the two
/// POSIX ACL names are exact with an empty e_name. Everything else, "system.data" (inline
/// data's own entry) and "system.richacl" included, has no handler: EOPNOTSUPP.
/// </summary>
internal static class XattrName
{
    /// <summary>XATTR_NAME_MAX: the longest full name (bytes) the VFS passes.</summary>
    public const int XATTR_NAME_MAX = 255;

    /// <summary>XATTR_SIZE_MAX: the largest value the VFS passes.</summary>
    public const int XATTR_SIZE_MAX = 65536;

    public static Ext4Errno TryParse(string fullName, out byte index, out byte[] name)
    {
        index = 0;
        name = [];
        byte[] full = Encoding.UTF8.GetBytes(fullName);
        if (full.Length > XATTR_NAME_MAX)
        {
            return Ext4Errno.ERANGE;
        }

        if (fullName == "system.posix_acl_access")
        {
            index = X.EXT4_XATTR_INDEX_POSIX_ACL_ACCESS;
            return Ext4Errno.None;
        }

        if (fullName == "system.posix_acl_default")
        {
            index = X.EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT;
            return Ext4Errno.None;
        }

        foreach (var (prefix, idx) in s_prefixed)
        {
            if (fullName.StartsWith(prefix, StringComparison.Ordinal))
            {
                if (fullName.Length == prefix.Length)
                {
                    return Ext4Errno.EINVAL;
                }

                index = idx;
                name = full[Encoding.UTF8.GetByteCount(prefix)..];
                return name.AsSpan().IndexOf((byte)0) >= 0 ? Ext4Errno.EINVAL : Ext4Errno.None;
            }
        }

        return Ext4Errno.EOPNOTSUPP;
    }

    private static readonly (string Prefix, byte Index)[] s_prefixed =
    [
        ("user.", X.EXT4_XATTR_INDEX_USER),
        ("trusted.", X.EXT4_XATTR_INDEX_TRUSTED),
        ("security.", X.EXT4_XATTR_INDEX_SECURITY),
    ];
}
