namespace Safemount.Ext4;

/// <summary>The file system cannot be mounted; <see cref="Exception.Message"/> is one line for the user.</summary>
public class Ext4MountException : Exception
{
    public Ext4MountException(string message) : base(message) { }

    public Ext4MountException(string message, Exception inner) : base(message, inner) { }
}
