"""Products, deals and orders: intake, stock, payment, refunds."""
