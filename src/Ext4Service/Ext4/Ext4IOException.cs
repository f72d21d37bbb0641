namespace Safemount.Ext4;

/// <summary>The device failed a read (maps to EIO).</summary>
public sealed class Ext4IOException : Exception
{
    public Ext4IOException(string message) : base(message) { }

    public Ext4IOException(string message, Exception inner) : base(message, inner) { }
}
