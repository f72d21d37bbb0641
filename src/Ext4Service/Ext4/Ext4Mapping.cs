namespace Safemount.Ext4;

/// <summary>
/// One answer to "what backs the file from byte <see cref="Offset"/>": file bytes
/// [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>) are of one
/// <see cref="Kind"/> and, when Mapped or Unwritten, physically contiguous from device byte
/// <see cref="DeviceOffset"/> (−1 otherwise). Offset and Length are multiples of the block size
/// and Length ≥ one block. <see cref="New"/>: the blocks were allocated by this call.
/// </summary>
public readonly record struct Ext4Mapping(Ext4MappingKind Kind, long Offset, long Length, long DeviceOffset, bool New = false);
