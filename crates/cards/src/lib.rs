//! Cards: card numbers with check digits, signed virtual-card QR payloads, QR images, phones.
