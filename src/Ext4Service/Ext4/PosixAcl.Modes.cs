namespace Safemount.Ext4;

/// <summary>The mode/ACL interplay of fs/posix_acl.c: inheritance at create and chmod.</summary>
internal static partial class PosixAcl
{
    private const int S_IRWXU = 0x1C0; // 0700
    private const int S_IRWXG = 0x038; // 0070
    private const int S_IRWXO = 0x007; // 0007

    /// <summary>
    /// posix_acl_create_masq: restricts the inherited <paramref name="acl"/> (a copy of the
    /// parent's default ACL) by the create <paramref name="mode"/> and the mode by the ACL.
    /// Returns true when the result needs to be stored (it has named entries or a mask); throws
    /// <see cref="Ext4CorruptionException"/> for an ACL without GROUP_OBJ and MASK (the kernel's EIO).
    /// </summary>
    public static bool CreateMasq(List<AclEntry> acl, ref ushort mode)
    {
        int m = mode;
        bool notEquiv = false;
        int groupObj = -1, maskObj = -1;
        for (int i = 0; i < acl.Count; i++)
        {
            var e = acl[i];
            switch (e.Tag)
            {
                case ACL_USER_OBJ:
                    e = e with { Perm = (ushort)(e.Perm & ((m >> 6) | ~S_IRWXO)) };
                    m &= (e.Perm << 6) | ~S_IRWXU;
                    break;
                case ACL_USER or ACL_GROUP:
                    notEquiv = true;
                    break;
                case ACL_GROUP_OBJ:
                    groupObj = i;
                    break;
                case ACL_OTHER:
                    e = e with { Perm = (ushort)(e.Perm & (m | ~S_IRWXO)) };
                    m &= e.Perm | ~S_IRWXO;
                    break;
                case ACL_MASK:
                    maskObj = i;
                    notEquiv = true;
                    break;
                default:
                    throw new Ext4CorruptionException($"default ACL: unknown tag 0x{e.Tag:x}");
            }

            acl[i] = e;
        }

        int g = maskObj >= 0 ? maskObj : groupObj;
        if (g < 0)
        {
            throw new Ext4CorruptionException("default ACL has neither GROUP_OBJ nor MASK");
        }

        var ge = acl[g];
        ge = ge with { Perm = (ushort)(ge.Perm & ((m >> 3) | ~S_IRWXO)) };
        m &= (ge.Perm << 3) | ~S_IRWXG;
        acl[g] = ge;
        mode = (ushort)((mode & ~(S_IRWXU | S_IRWXG | S_IRWXO)) | (m & (S_IRWXU | S_IRWXG | S_IRWXO)));
        return notEquiv;
    }

    /// <summary>__posix_acl_chmod: USER_OBJ, OTHER and MASK (or GROUP_OBJ without one) take the new mode's bits.</summary>
    public static void Chmod(List<AclEntry> acl, ushort mode)
    {
        int groupObj = -1, maskObj = -1;
        for (int i = 0; i < acl.Count; i++)
        {
            var e = acl[i];
            switch (e.Tag)
            {
                case ACL_USER_OBJ:
                    acl[i] = e with { Perm = (ushort)((mode & S_IRWXU) >> 6) };
                    break;
                case ACL_GROUP_OBJ:
                    groupObj = i;
                    break;
                case ACL_MASK:
                    maskObj = i;
                    break;
                case ACL_OTHER:
                    acl[i] = e with { Perm = (ushort)(mode & S_IRWXO) };
                    break;
            }
        }

        int g = maskObj >= 0 ? maskObj : groupObj;
        if (g >= 0)
        {
            acl[g] = acl[g] with { Perm = (ushort)((mode & S_IRWXG) >> 3) };
        }
    }
}
