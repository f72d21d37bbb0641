namespace Safemount.Ext4;

/// <summary>On-disk corruption found at run time (maps to EUCLEAN); the message names the inode or block.</summary>
public class Ext4CorruptionException : Exception
{
    public Ext4CorruptionException(string message) : base(message) { }

    public Ext4CorruptionException(string message, Exception inner) : base(message, inner) { }
}
