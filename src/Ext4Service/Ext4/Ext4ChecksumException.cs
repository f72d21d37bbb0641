namespace Safemount.Ext4;

/// <summary>A metadata checksum did not match (maps to EBADMSG, the kernel's EFSBADCRC).</summary>
public sealed class Ext4ChecksumException : Ext4CorruptionException
{
    public Ext4ChecksumException(string message) : base(message) { }
}
