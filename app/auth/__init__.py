"""Sign-in providers (web ticket, Azure AD via msal) and the keyring token store; imports no Qt."""
