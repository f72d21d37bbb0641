using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Values stored in EA inodes (INCOMPAT ea_inode; kernel fs/ext4/xattr.c ext4_xattr_inode_get,
/// ext4_xattr_inode_iget, ext4_xattr_inode_read, ext4_xattr_inode_verify_hashes). An entry with
/// e_value_inum != 0 names an inode whose data, exactly e_value_size bytes, is the value.
/// Invariants checked before a byte is returned, each failure an
/// <see cref="Ext4CorruptionException"/> (the kernel's EFSCORRUPTED/EINVAL):
/// <list type="bullet">
/// <item>the EA inode is not the owner, reads and passes its checksum, carries EXT4_EA_INODE_FL,
/// and has no extended attributes of its own (neither in-inode nor a block: check_igot_inode);</item>
/// <item>its i_size equals e_value_size, which is at most <see cref="EXT4_XATTR_SIZE_MAX"/>;</item>
/// <item>every block of the value is mapped (the kernel forbids holes in an EA inode);</item>
/// <item>unless the inode is an old Lustre-style one (entry hash differs, i_mtime is the owner's
/// inode number and i_generation the owner's), crc32c(s_csum_seed, value) equals the hash kept
/// in the EA inode's i_atime, and the entry hash recomputed from the name and that value hash
/// equals e_hash (unsigned-char or legacy signed-char variant).</item>
/// </list>
/// </summary>
internal sealed class XattrInodeValues
{
    /// <summary>EXT4_XATTR_SIZE_MAX (fs/ext4/xattr.h): the largest value ext4 accepts at all.</summary>
    public const int EXT4_XATTR_SIZE_MAX = 1 << 24;

    private readonly Ext4Volume _v;

    public XattrInodeValues(Ext4Volume volume) => _v = volume;

    /// <summary>The value of the entry (<paramref name="name"/>, <paramref name="entryHash"/>) of
    /// <paramref name="owner"/>, stored in inode <paramref name="eaIno"/>.</summary>
    public byte[] Read(Ext4Inode owner, uint eaIno, uint entryHash, ReadOnlySpan<byte> name, int size)
    {
        if (eaIno == owner.Number)
        {
            throw new Ext4CorruptionException($"inode {owner.Number}: xattr value inode points at itself");
        }

        if ((uint)size > EXT4_XATTR_SIZE_MAX)
        {
            throw new Ext4CorruptionException($"inode {owner.Number}: xattr value size {size} exceeds {EXT4_XATTR_SIZE_MAX}");
        }

        Ext4Inode ea = _v.ReadInode(eaIno);
        if (!ea.HasFlag(L.EXT4_EA_INODE_FL))
        {
            throw new Ext4CorruptionException($"inode {owner.Number}: EA inode {eaIno} does not have EXT4_EA_INODE_FL");
        }

        bool inodeXattrs = _v.InodeSize > L.GoodOldInodeSize
            && L.GoodOldInodeSize + ea.ExtraIsize + 4 <= ea.Raw.Length
            && U32(ea.Raw, L.GoodOldInodeSize + ea.ExtraIsize) == XattrLayout.EXT4_XATTR_MAGIC;
        if (inodeXattrs || ea.FileAcl != 0)
        {
            throw new Ext4CorruptionException($"inode {owner.Number}: EA inode {eaIno} has extended attributes of its own");
        }

        if (ea.Size != size)
        {
            throw new Ext4CorruptionException(
                $"inode {owner.Number}: EA inode {eaIno} has i_size {ea.Size}, the entry says {size}");
        }

        var value = new byte[size];
        CheckNoHoles(owner, ea, size);
        int n = _v.Read(ea, 0, value);
        if (n != size)
        {
            throw new Ext4CorruptionException($"inode {owner.Number}: EA inode {eaIno} gave {n} of {size} bytes");
        }

        uint storedHash = U32(ea.Raw, L.i_atime);                 // ext4_xattr_inode_get_hash: (u32) i_atime
        bool lustre = entryHash != storedHash
            && U32(ea.Raw, L.i_mtime) == owner.Number              // EXT4_XATTR_INODE_GET_PARENT
            && ea.Generation == owner.Generation;
        if (!lustre)
        {
            uint valueHash = Crc32c.Append(_v.CsumSeed, value);   // ext4_xattr_inode_hash
            if (valueHash != storedHash)
            {
                throw new Ext4CorruptionException(
                    $"inode {owner.Number}: EA inode {eaIno} value hash 0x{valueHash:x8} does not match its stored hash 0x{storedHash:x8}");
            }

            ReadOnlySpan<uint> words = [valueHash];
            if (XattrHash.Entry(name, words, signedName: false) != entryHash
                && XattrHash.Entry(name, words, signedName: true) != entryHash)
            {
                throw new Ext4CorruptionException(
                    $"inode {owner.Number}: xattr entry hash 0x{entryHash:x8} does not match EA inode {eaIno}");
            }
        }

        return value;
    }

    /// <summary>ext4_xattr_inode_read: every block of [0, size) must be allocated and written.</summary>
    private void CheckNoHoles(Ext4Inode owner, Ext4Inode ea, int size)
    {
        if (ea.HasFlag(L.EXT4_INLINE_DATA_FL))
        {
            throw new Ext4CorruptionException($"inode {owner.Number}: EA inode {ea.Number} has inline data");
        }

        uint blocks = (uint)(((long)size + _v.BlockSize - 1) >> _v.BlockSizeBits);
        uint lblk = 0;
        while (lblk < blocks)
        {
            BlockRun run = _v.FileData.Map(ea, lblk, blocks - lblk);
            if (run.Kind != BlockRunKind.Mapped)
            {
                throw new Ext4CorruptionException(
                    $"inode {owner.Number}: EA inode {ea.Number} has a hole or unwritten block at {lblk}");
            }

            lblk += run.Length;
        }
    }
}
