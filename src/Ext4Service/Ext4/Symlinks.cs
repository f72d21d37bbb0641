using Safemount.Ext4.Format;

namespace Safemount.Ext4;

/// <summary>
/// Symbolic link targets. A fast symlink (kernel: ext4_inode_is_fast_symlink) keeps its target
/// in i_block: size &lt; 60 and no data blocks (i_blocks minus the xattr block's cluster is 0). A slow one
/// keeps it in logical block 0, extent- or block-mapped; its size is below the block size.
/// </summary>
internal static class Symlinks
{
    public const int FastSymlinkMax = InodeLayout.IBlockSize - 1; // i_size < sizeof(i_data)
    public const int PathMax = 4096;                              // PATH_MAX

    public static byte[] Read(Ext4Volume v, Ext4Inode inode)
    {
        if (!inode.IsSymlink)
        {
            throw new ArgumentException($"inode {inode.Number} is not a symbolic link", nameof(inode));
        }

        long size = inode.Size;
        if (size <= 0 || size >= PathMax || size >= v.BlockSize)
        {
            throw new Ext4CorruptionException($"inode {inode.Number}: invalid symlink length {size}");
        }

        // The xattr block is charged to i_blocks as one cluster (EXT4_CLUSTER_SIZE >> 9 sectors in
        // ext4_inode_is_fast_symlink): with bigalloc that is 2^(s_log_cluster_size + 1) sectors,
        // not one block's worth. s_log_cluster_size is range-checked at open when bigalloc is on.
        int clusterBits = v.Sb.HasRoCompat(Ext4Features.RO_COMPAT_BIGALLOC) ? 10 + (int)v.Sb.s_log_cluster_size : v.BlockSizeBits;
        ulong eaBlocks = inode.FileAcl != 0 ? 1UL << (clusterBits - 9) : 0;
        bool fast = size <= FastSymlinkMax && inode.Blocks512 - eaBlocks == 0
            && !inode.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL);
        if (fast)
        {
            var target = inode.IBlock[..(int)size];
            if (target.IndexOf((byte)0) >= 0)
            {
                throw new Ext4CorruptionException($"inode {inode.Number}: fast symlink contains a NUL byte");
            }

            return target.ToArray();
        }

        var buffer = new byte[size];
        int n = v.FileData.Read(inode, 0, buffer);
        int nul = buffer.AsSpan(0, n).IndexOf((byte)0);
        return buffer.AsSpan(0, nul >= 0 ? nul : n).ToArray();
    }
}
