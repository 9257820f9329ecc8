// Filled by later issues; see docs/.
