namespace Safemount.Ext4.Journal;

/// <summary>
/// Where the newest logged copy of a file-system block sits: journal block
/// <see cref="JournalBlock"/>, whose first four bytes must be restored to JBD2_MAGIC_NUMBER
/// when <see cref="Escaped"/> (the writer zeroed them so the copy would not look like a
/// journal metadata block).
/// </summary>
internal readonly record struct ReplaySource(uint JournalBlock, bool Escaped);
