namespace Safemount.Ext4;

/// <summary>One live directory entry.</summary>
/// <param name="Inode">inode number (never 0)</param>
/// <param name="FileType">EXT4_FT_* (0 unknown, 1 reg, 2 dir, 3 chr, 4 blk, 5 fifo, 6 sock, 7 symlink)</param>
/// <param name="Name">name bytes, 1..255, no NUL, no '/'</param>
public sealed record Ext4DirEntry(uint Inode, byte FileType, byte[] Name);
