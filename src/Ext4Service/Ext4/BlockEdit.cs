namespace Safemount.Ext4;

/// <summary>
/// Edits one private copy of a metadata block inside <see cref="Ext4Transaction.Modify"/> or
/// <see cref="Ext4Transaction.Create"/>. It must leave the block's own checksum (if it carries
/// one) correct, and must not call back into the transaction.
/// </summary>
internal delegate void BlockEdit(Span<byte> block);
