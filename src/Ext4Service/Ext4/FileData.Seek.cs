namespace Safemount.Ext4;

internal sealed partial class FileData
{
    /// <summary>
    /// lseek SEEK_DATA / SEEK_HOLE over <paramref name="inode"/>: unwritten extents count as
    /// holes (as iomap does with no cached pages), EOF is a hole, inline data is all data.
    /// ENXIO when <paramref name="offset"/> is at or past EOF, or, for SEEK_DATA, when no data follows.
    /// </summary>
    public Ext4Errno Seek(Ext4Inode inode, long offset, bool data, out long result)
    {
        result = 0;
        if (offset < 0 || offset >= inode.Size)
        {
            return Ext4Errno.ENXIO;
        }

        if (inode.HasInlineData)
        {
            result = data ? offset : inode.Size;
            return Ext4Errno.None;
        }

        int bits = _v.BlockSizeBits;
        ulong blocks = ((ulong)inode.Size + _v.BlockSize - 1) >> bits;
        ulong lblk = (ulong)offset >> bits;
        while (lblk < blocks)
        {
            var run = Map(inode, (uint)lblk, (uint)Math.Min(blocks - lblk, uint.MaxValue));
            bool isData = run.Kind == BlockRunKind.Mapped;
            if (isData == data)
            {
                result = Math.Max(offset, (long)(lblk << bits));
                if (!data && result > inode.Size)
                {
                    result = inode.Size;
                }

                return Ext4Errno.None;
            }

            lblk += run.Length;
        }

        if (data)
        {
            return Ext4Errno.ENXIO;
        }

        result = inode.Size;
        return Ext4Errno.None;
    }
}
