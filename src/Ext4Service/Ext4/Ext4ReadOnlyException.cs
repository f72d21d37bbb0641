namespace Safemount.Ext4;

/// <summary>A change was asked of a read-only volume, or of one turned read-only by errors=remount-ro (maps to EROFS).</summary>
public sealed class Ext4ReadOnlyException : Exception
{
    public Ext4ReadOnlyException(string message) : base(message) { }
}
