namespace Safemount.Ext4;

/// <summary>An in-place edit of one directory block's bytes (runs on a private copy; must not do I/O).</summary>
internal delegate void DirectoryBlockEdit(Span<byte> block);
