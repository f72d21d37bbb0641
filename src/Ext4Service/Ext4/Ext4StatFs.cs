namespace Safemount.Ext4;

/// <summary>statfs numbers as the kernel's ext4_statfs reports them; block counts in <see cref="BlockSize"/> units.</summary>
public readonly record struct Ext4StatFs(
    ulong Blocks,
    ulong FreeBlocks,
    ulong AvailableBlocks,
    ulong Files,
    ulong FreeFiles,
    uint BlockSize,
    uint NameMax);
