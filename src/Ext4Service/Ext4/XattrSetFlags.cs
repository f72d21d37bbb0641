namespace Safemount.Ext4;

/// <summary>setxattr(2) flags (include/uapi/linux/xattr.h).</summary>
[Flags]
public enum XattrSetFlags
{
    None = 0,

    /// <summary>XATTR_CREATE: fail with EEXIST when the name exists.</summary>
    Create = 1,

    /// <summary>XATTR_REPLACE: fail with ENODATA when the name does not exist.</summary>
    Replace = 2,
}
